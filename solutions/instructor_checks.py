"""The instructor's private checks file: answer keys and outcome targets (`course grade --checks FILE`).

Keep this file away from learners: it is not part of the installed package, and the grader reads it
in its own process only (the learner's kernel never sees it). Change the keys' wording, the targets
or the budgets freely; a question without a key here is only "recorded" when graded.

    course grade lessons/06_losses.ipynb --checks solutions/instructor_checks.py
"""
from course.exercises.outcome import outcome_settings
from course.exercises.questions import answer_key

# Lesson 6 · Losses
answer_key("6.5", "b", explain=("Keras clips the probabilities to [1e-7, 1 - 1e-7]: -log(1e-7) = 16.118.",
                                "Keras 会把概率截断到 [1e-7, 1 - 1e-7]：-log(1e-7) = 16.118。"))
answer_key("6.6", 2.302585, tol=0.01, explain=("A uniform prediction gives p = 1/10 to the true class: -log(1/10).",
                                               "均匀预测给真实类别的概率是 1/10：-log(1/10)。"))
outcome_settings("6.7", target=0.84, seconds=20, n_train=5000, n_test=2000, test_start=0)

# Lesson 12 · Data pipelines
answer_key("12.5", "b", explain=("A buffer of 1024 only mixes the first 1024 sorted elements: zeros and ones.",
                                 "1024 的缓冲区只能混合排好序的前 1024 个元素：0 和 1。"))
answer_key("12.6", 16, explain=("ceil(1000 / 64) = 16: the last batch holds the 40 left over.",
                                "ceil(1000 / 64) = 16：最后一批装剩下的 40 个。"))
outcome_settings("12.7", target=0.84, seconds=20, n_train=5000, n_test=2000, test_start=2000)

# Lesson 14 · Distributed training
answer_key("14.4", "b", explain=("compute_average_loss divides by the GLOBAL batch size, 256, so that the sum over "
                                 "the replicas is the global mean.",
                                 "compute_average_loss 除以*全局*批大小 256，这样对副本求和才是全局均值。"))
answer_key("14.5", 14, explain=("2 (W - 1) = 14: W - 1 steps of reduce-scatter, W - 1 of all-gather.",
                                "2 (W - 1) = 14：W - 1 步归约-散射，W - 1 步全收集。"))
outcome_settings("14.6", target=0.84, seconds=20, n_train=5000, n_test=2000, test_start=4000)

# Lesson 2 · Graphs and sessions
answer_key("2.5", "b", explain=("sess.run(c) runs only the ops c needs (Session.run prunes the graph): c does not "
                                "depend on the placeholder a, so nothing needs feeding, and c = 3 + 1 = 4.0.",
                                "sess.run(c) 只运行 c 需要的操作（Session.run 会剪枝计算图）：c 不依赖占位符 a，"
                                "所以不需要馈值，c = 3 + 1 = 4.0。"))
answer_key("2.6", 2, tol=1e-6, explain=("A variable's value lives in a session, not in the graph: s2 starts from its "
                                        "initialiser, 1.0, and one assign_add makes 2.0; what s1 did went with s1.",
                                        "变量的值存在会话里，而不在计算图里：s2 从初始值 1.0 开始，一次 assign_add "
                                        "得到 2.0；s1 做过的事随 s1 一起消失了。"))
outcome_settings("2.7", target=0.84, seconds=20, n_train=5000, n_test=2000, test_start=3000)

# Lesson 15 · Export and optimisation
answer_key("15.4", "c", explain=("Zeros stored as float32 take 4 bytes like any weight, and a dense matmul multiplies "
                                 "them too: the file only shrinks compressed (zipped), and only sparse kernels skip "
                                 "the zeros (section 7's table).",
                                 "以 float32 存储的零和其他权重一样占 4 个字节，稠密矩阵乘法也照样乘它们：文件只有在"
                                 "压缩（zip）后才变小，只有稀疏算子才会跳过这些零（第 7 节的表格）。"))
answer_key("15.5", 0.001, tol=1e-5, explain=("The scale is 0.254 / 127 = 0.002; rounding to the nearest step errs "
                                             "by at most half a step: 0.002 / 2 = 0.001.",
                                             "缩放因子是 0.254 / 127 = 0.002；舍入到最近的一格，误差最多半格："
                                             "0.002 / 2 = 0.001。"))
outcome_settings("15.6", target=0.84, seconds=20, n_train=5000, n_test=2000, test_start=7000)

# Lesson 3 · Forward propagation
answer_key("3.4", "b", explain=("(xW1 + b1)W2 + b2 = x(W1W2) + (b1W2 + b2): without an activation two layers are one "
                                "linear layer.",
                                "(xW1 + b1)W2 + b2 = x(W1W2) + (b1W2 + b2)：没有激活函数时，两层就是一个线性层。"))
answer_key("3.5", 101770, explain=("784 * 128 + 128 = 100,480 and 128 * 10 + 10 = 1,290: a kernel (in, out) plus one "
                                   "bias per unit.",
                                   "784 * 128 + 128 = 100,480，128 * 10 + 10 = 1,290：核 (in, out) 加上每个单元一个偏置。"))
outcome_settings("3.6", target=0.85, seconds=20, n_train=5000, n_test=2000, train_start=5000, test_start=6000)

# Lesson 4 · Back propagation
answer_key("4.5", -0.75, tol=0.005, explain=("dL/dz = p - y: p_2 = 1/4 for equal logits, y_2 = 1, so 0.25 - 1 = "
                                             "-0.75.",
                                             "dL/dz = p - y：logits 相等时 p_2 = 1/4，y_2 = 1，所以 0.25 - 1 = -0.75。"))
answer_key("4.6", "b", explain=("A value used twice adds the gradients from its two uses: df/dx = y + 1.",
                                "被使用两次的值把两处传回的梯度相加：df/dx = y + 1。"))
outcome_settings("4.7", target=0.85, seconds=20, n_train=5000, n_test=2000, train_start=10000, test_start=8000)

# Lesson 5 · GradientTape and autograd
answer_key("5.6", "b", explain=("backward() adds to .grad: it holds the sum until zero_grad() (or grad = None) "
                                "clears it.",
                                "backward() 会累加到 .grad 上：在 zero_grad()（或 grad = None）清除之前，它保存的是梯度之和。"))
answer_key("5.7", "b", explain=("w - 0.1 * g is a plain tensor, not a Variable: the tape does not watch it, so the "
                                "second step's gradient is None. Update with w.assign_sub(0.1 * g).",
                                "w - 0.1 * g 是普通张量而不是 Variable：梯度带不监视它，所以第二步的梯度是 None。"
                                "应该用 w.assign_sub(0.1 * g) 更新。"))
outcome_settings("5.8", target=0.85, seconds=20, n_train=5000, n_test=2000, train_start=20000, test_start=8000)

# Lesson 10 · Overfitting and regularisation
answer_key("10.5", "b", explain=("Inverted dropout divides what it keeps by 1 - 0.25 = 0.75: 2.0 / 0.75 = 2.667, so the "
                                 "expected output stays 2.0 and inference needs no scaling.",
                                 "反向缩放的丢弃法把保留下来的值除以 1 - 0.25 = 0.75：2.0 / 0.75 = 2.667，这样输出的期望"
                                 "仍是 2.0，推理时不必再缩放。"))
answer_key("10.6", 0.998, tol=1e-4, explain=("The gradient of lambda * w^2 is 2 * lambda * w: w - 0.1 * 2 * 0.01 * w = "
                                             "(1 - 0.002) w = 0.998 w, hence the name weight decay.",
                                             "lambda * w^2 的梯度是 2 * lambda * w：w - 0.1 * 2 * 0.01 * w = "
                                             "(1 - 0.002) w = 0.998 w，所以叫权重衰减。"))
outcome_settings("10.7", target=0.84, seconds=20, n_train=5000, n_test=2000, test_start=0)

# Lesson 11 · CNNs on MNIST
answer_key("11.7", 18496, explain=("3 * 3 * 32 * 64 weights + 64 biases = 18 496, whatever the image size: the same "
                                   "filters slide over every position.",
                                   "3 * 3 * 32 * 64 个权重 + 64 个偏置 = 18 496，与图像大小无关：同一组卷积核在每个"
                                   "位置上滑动。"))
answer_key("11.8", "b", explain=("The same filter is applied at every position, so the feature map moves with the "
                                 "input (equivariance); pooling and the dense layers make the prediction nearly "
                                 "invariant.",
                                 "同一个卷积核作用在每个位置上，所以特征图随输入一起移动（等变性）；池化和全连接层"
                                 "让预测几乎不变。"))
outcome_settings("11.9", target=0.84, seconds=20, n_train=5000, n_test=2000, test_start=8000)

# Lesson 13 · Saving, checkpoints and loading
answer_key("13.5", "b", explain=("A weights file holds the numbers only, not the architecture: build the same model "
                                 "in code, then load_weights.",
                                 "权重文件只保存数值，不保存网络结构：先用代码搭建同样的模型，再 load_weights。"))
answer_key("13.6", 300000, explain=("The weights plus Adam's two moment estimates m and v, one of each per parameter: "
                                    "3 * 100 000.",
                                    "权重，加上 Adam 的两个矩估计 m 和 v（每个参数各一个）：3 * 100 000。"))
outcome_settings("13.7", target=0.84, seconds=20, n_train=5000, n_test=2000, test_start=5000)

# Lesson 7 · Optimizers
answer_key("7.5", "b", explain=("SGD's step is η·g, so it scales with the loss; Adam divides m̂ by √v̂, and both scale by "
                                "100: its step stays about η.",
                                "SGD 的步长是 η·g，随损失一起放大；Adam 用 m̂ 除以 √v̂，两者都放大 100 倍：步长仍约为 η。"))
answer_key("7.6", 0.1, tol=0.002, explain=("The velocity settles where a = μa + g, a = g / (1 - μ) = 10: a step of "
                                           "η·10 = 0.1.",
                                           "速度稳定在 a = μa + g 处，即 a = g / (1 - μ) = 10：每步移动 η·10 = 0.1。"))
outcome_settings("7.7", target=0.83, seconds=20, n_train=5000, n_test=2000, test_start=0)

# Lesson 8 · Initialisation
answer_key("8.5", "a", explain=("Equal weights give every hidden unit the same output and the same gradient, so "
                                "every step changes them alike: nothing breaks the symmetry.",
                                "相同的权重让每个隐藏单元输出相同、梯度也相同，所以每一步对它们的改变都一样：没有什么能"
                                "打破对称性。"))
answer_key("8.6", 0.05, tol=0.001, explain=("Var(z) = n_in·σ² = 400σ² = 1, so σ = 1/√400 = 0.05.",
                                            "Var(z) = n_in·σ² = 400σ² = 1，所以 σ = 1/√400 = 0.05。"))
outcome_settings("8.7", target=0.83, seconds=20, n_train=5000, n_test=2000, test_start=1000)

# Lesson 9 · An MLP on MNIST
answer_key("9.5", 203530, tol=0.5, explain=("784·256 + 256 = 200 960 in the first Dense layer, 256·10 + 10 = 2570 in "
                                            "the second; Flatten and Dropout have none.",
                                            "第一个 Dense 层有 784·256 + 256 = 200 960 个，第二个有 256·10 + 10 = 2570 "
                                            "个；Flatten 和 Dropout 没有参数。"))
answer_key("9.6", 2346, tol=0.5, explain=("ceil(50 000 / 64) = 782 batches per epoch (the last holds 16 images), "
                                          "times 3 epochs.",
                                          "每轮 ceil(50 000 / 64) = 782 个批次（最后一批有 16 张图像），乘以 3 轮。"))
outcome_settings("9.7", target=0.83, seconds=20, n_train=5000, n_test=2000, test_start=500)
