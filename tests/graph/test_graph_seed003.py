"""seed003 (a TF1 graph trained in a Session) with only its import rewritten, against TensorFlow.

The program is the seed as users have it; `{IMPORT}` becomes `import course.tf.compat.v1 as tf` for
us and `import tensorflow.compat.v1 as tf; tf.disable_eager_execution()` for TensorFlow 2 (run in a
subprocess). The printed initial weights, cross-entropies every 1000 steps and trained weights
must agree within 1e-4 relative.
"""
import contextlib
import io
import re
import subprocess
import sys

import numpy as np
import pytest

import course.tf.compat.v1 as tf

SEED003 = '''{IMPORT} #导入TensorFlow工具包并简称为tf
from numpy.random import RandomState #导入numpy工具包,生成模拟数据集

batch_size = 8 #定义训练数据batch的大小
w1 = tf.Variable(tf.random_normal([2,3],stddev=1,seed=1))
w2 = tf.Variable(tf.random_normal([3,1],stddev=1,seed=1))
x = tf.placeholder(tf.float32,shape=(None,2),name='x-input')
y_ = tf.placeholder(tf.float32,shape=(None,1),name='y-input')
a = tf.matmul(x,w1)
y = tf.matmul(a,w2) #定义神经网络前向传播过程
cross_entropy = -tf.reduce_mean(y_ * tf.log(tf.clip_by_value(y,1e-10,1.0)))
train_step = tf.train.AdamOptimizer(0.001).minimize(cross_entropy) #定义损失函数和反向传播算法
rdm = RandomState(1)
dataset_size = 128 #产生128组数据
X = rdm.rand(dataset_size,2)
Y = [[int(x1+x2 < 1)] for (x1,x2) in X] #将所有x1+x2<1的样本视为正样本,表示为1;其余为0
with tf.Session() as sess:
    init_op = tf.global_variables_initializer() #初始化变量
    sess.run(init_op)
    print(sess.run(w1))
    print(sess.run(w2))
    STEPS = 5000 #设置训练的轮数
    for i in range(STEPS):
        start = (i * batch_size) % dataset_size
        end = min(start+batch_size,dataset_size)
        sess.run(train_step,feed_dict={x:X[start:end],y_:Y[start:end]})
        if i%1000 == 0:
            total_cross_entropy = sess.run(cross_entropy,feed_dict={x:X,y_:Y})
            print("After %d training step(s),cross entropy on all data is %g" % (i,total_cross_entropy))
    print(sess.run(w1))
    print(sess.run(w2))

# 指定GPU: the seed's device-placement snippet
a = tf.constant([1.0,2.0],name="a")
b = tf.constant([3.0,4.0],name="b")
g = tf.Graph()
with g.as_default():
    with g.device('/gpu:0'):
        a = tf.constant([1.0,2.0],name="a")
        b = tf.constant([3.0,4.0],name="b")
        result = a + b
    sess = tf.Session(config=tf.ConfigProto(allow_soft_placement=True))
    print(sess.run(result))
    sess.close()
'''
OURS = "import course.tf.compat.v1 as tf"
THEIRS = "import tensorflow.compat.v1 as tf; tf.disable_eager_execution()"

# What TensorFlow 2.21 (tensorflow-cpu, compat.v1 graph mode) printed for the program.
TF_PRINTED = [-0.8113182, 1.4845988, 0.06532937, -2.4427042, 0.0992484, 0.5912243,
              -0.8113182, 1.4845988, 0.06532937,
              0, 0.0674925, 1000, 0.0163385, 2000, 0.00907547, 3000, 0.00714436, 4000, 0.00578471,
              -1.9618274, 2.582354, 1.6820376, -3.4681718, 1.0698231, 2.11789,
              -1.8247148, 2.6854665, 1.418195,
              4.0, 6.0]

_NUMBER = re.compile(r"-?\d+\.?\d*(?:e[-+]?\d+)?")


def numbers(text):
    return [float(v) for v in _NUMBER.findall(text)]


def run_ours(executor=None):
    tf.reset_default_graph()
    out = io.StringIO()
    source = SEED003.replace("{IMPORT}", OURS)
    if executor:
        source = source.replace("tf.Session()", f"tf.Session(executor={executor!r})")
    with contextlib.redirect_stdout(out):
        exec(compile(source, "seed003_graph_session.py", "exec"), {"__name__": "__main__"})
    tf.reset_default_graph()
    return out.getvalue()


@pytest.mark.parametrize("executor", [None, "interpreter"])
def test_seed003_prints_what_tensorflow_printed(executor):
    printed = run_ours(executor)
    assert "After 4000 training step(s),cross entropy on all data is" in printed
    np.testing.assert_allclose(numbers(printed), TF_PRINTED, rtol=1e-4, atol=1e-6)


@pytest.mark.parity
def test_seed003_against_tensorflow_now():
    pytest.importorskip("tensorflow")
    proc = subprocess.run([sys.executable, "-c", SEED003.replace("{IMPORT}", THEIRS)], capture_output=True,
                          text=True, timeout=600, env={**__import__("os").environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    theirs = numbers(proc.stdout)
    assert len(theirs) == len(TF_PRINTED)
    np.testing.assert_allclose(numbers(run_ours()), theirs, rtol=1e-4, atol=1e-6)
