"""TF1's MNIST tutorials, written from their public descriptions, run with only the imports rewritten:

    from course.tf.examples.tutorials.mnist import input_data      # was tensorflow.examples...
    import course.tf.compat.v1 as tf                               # was tensorflow

"MNIST for beginners": softmax regression, GradientDescent(0.5), 1000 steps of 100 -> >= 91%.
"Deep MNIST for experts": conv-pool-conv-pool-fc1024-dropout-fc10, Adam(1e-4), batch 50, 2000
steps -> >= 95.5% on the first 2000 test images. The default run trains shortened versions; the
full ones are marked slow (`pytest -m slow tests/graph/test_graph_mnist.py -s` prints accuracy and time).
"""
import time

import numpy as np
import pytest
import torch

import course.tf.compat.v1 as tf
from course.tf.examples.tutorials.mnist import input_data


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


@pytest.fixture(scope="module")
def mnist():
    return input_data.read_data_sets("MNIST_data", one_hot=True)


def test_read_data_sets_matches_the_original_layout(mnist):
    assert (mnist.train.num_examples, mnist.validation.num_examples, mnist.test.num_examples) == (55000, 5000, 10000)
    assert mnist.train.images.shape == (55000, 784) and mnist.train.images.dtype == np.float32
    assert 0.0 <= mnist.train.images.min() and mnist.train.images.max() == 1.0
    assert mnist.train.labels.shape == (55000, 10) and set(np.unique(mnist.train.labels)) == {0.0, 1.0}
    plain = input_data.read_data_sets("MNIST_data")
    assert plain.test.labels.dtype == np.uint8 and plain.test.labels.shape == (10000,)
    np.testing.assert_array_equal(np.argmax(mnist.test.labels, 1), plain.test.labels)


def test_next_batch_epochs_and_shuffling():
    images = np.arange(10, dtype=np.uint8).reshape(10, 1, 1, 1).repeat(784, 1).reshape(10, 28, 28, 1)
    ds = input_data.DataSet(images, np.arange(10), reshape=True)
    np.random.seed(0)
    seen = np.concatenate([ds.next_batch(4)[1] for _ in range(2)])
    assert sorted(seen.tolist()) == sorted(set(seen.tolist())) and len(seen) == 8       # no repeats within an epoch
    crossing, labels = ds.next_batch(4)                                                 # 2 left + 2 of epoch 2
    assert ds.epochs_completed == 1 and len(labels) == 4
    assert sorted(np.concatenate([seen, labels[:2]]).tolist()) == list(range(10))
    np.testing.assert_allclose(crossing[:, 0] * 255, labels, atol=1e-4)                 # images follow labels
    unshuffled = input_data.DataSet(images, np.arange(10), reshape=True)
    assert unshuffled.next_batch(3, shuffle=False)[1].tolist() == [0, 1, 2]


def beginners(mnist, steps, form):
    tf.reset_default_graph()
    tf.set_random_seed(0)
    x = tf.placeholder(tf.float32, [None, 784])
    W = tf.Variable(tf.zeros([784, 10]))
    b = tf.Variable(tf.zeros([10]))
    if form == "log_softmax":        # the tutorial's first version
        y = tf.nn.softmax(tf.matmul(x, W) + b)
        y_ = tf.placeholder(tf.float32, [None, 10])
        cross_entropy = tf.reduce_mean(-tf.reduce_sum(y_ * tf.log(y), reduction_indices=[1]))
    else:                            # the later, numerically stable version
        y = tf.matmul(x, W) + b
        y_ = tf.placeholder(tf.float32, [None, 10])
        cross_entropy = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y_, logits=y))
    train_step = tf.train.GradientDescentOptimizer(0.5).minimize(cross_entropy)
    sess = tf.InteractiveSession()
    tf.global_variables_initializer().run()
    np.random.seed(0)
    for _ in range(steps):
        batch_xs, batch_ys = mnist.train.next_batch(100)
        sess.run(train_step, feed_dict={x: batch_xs, y_: batch_ys})
    correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(y_, 1))
    accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
    acc = sess.run(accuracy, feed_dict={x: mnist.test.images, y_: mnist.test.labels})
    sess.close()
    return acc


def deep(mnist, steps, n_test):
    tf.reset_default_graph()
    tf.set_random_seed(0)
    x = tf.placeholder(tf.float32, shape=[None, 784])
    y_ = tf.placeholder(tf.float32, shape=[None, 10])

    def weight_variable(shape):
        return tf.Variable(tf.truncated_normal(shape, stddev=0.1))

    def bias_variable(shape):
        return tf.Variable(tf.constant(0.1, shape=shape))

    def conv2d(x, W):
        return tf.nn.conv2d(x, W, strides=[1, 1, 1, 1], padding='SAME')

    def max_pool_2x2(x):
        return tf.nn.max_pool(x, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding='SAME')

    W_conv1 = weight_variable([5, 5, 1, 32])
    b_conv1 = bias_variable([32])
    x_image = tf.reshape(x, [-1, 28, 28, 1])
    h_conv1 = tf.nn.relu(conv2d(x_image, W_conv1) + b_conv1)
    h_pool1 = max_pool_2x2(h_conv1)
    W_conv2 = weight_variable([5, 5, 32, 64])
    b_conv2 = bias_variable([64])
    h_conv2 = tf.nn.relu(conv2d(h_pool1, W_conv2) + b_conv2)
    h_pool2 = max_pool_2x2(h_conv2)
    W_fc1 = weight_variable([7 * 7 * 64, 1024])
    b_fc1 = bias_variable([1024])
    h_pool2_flat = tf.reshape(h_pool2, [-1, 7 * 7 * 64])
    h_fc1 = tf.nn.relu(tf.matmul(h_pool2_flat, W_fc1) + b_fc1)
    keep_prob = tf.placeholder(tf.float32)
    h_fc1_drop = tf.nn.dropout(h_fc1, keep_prob)
    W_fc2 = weight_variable([1024, 10])
    b_fc2 = bias_variable([10])
    y_conv = tf.matmul(h_fc1_drop, W_fc2) + b_fc2
    cross_entropy = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y_, logits=y_conv))
    train_step = tf.train.AdamOptimizer(1e-4).minimize(cross_entropy)
    correct_prediction = tf.equal(tf.argmax(y_conv, 1), tf.argmax(y_, 1))
    accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
    np.random.seed(0)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for i in range(steps):
            batch = mnist.train.next_batch(50)
            if i % 100 == 0:
                train_accuracy = accuracy.eval(feed_dict={x: batch[0], y_: batch[1], keep_prob: 1.0})
                print('step %d, training accuracy %g' % (i, train_accuracy))
            train_step.run(feed_dict={x: batch[0], y_: batch[1], keep_prob: 0.5})
        return accuracy.eval(feed_dict={x: mnist.test.images[:n_test], y_: mnist.test.labels[:n_test],
                                        keep_prob: 1.0})


@pytest.mark.parametrize("form", ["log_softmax", "logits"])
def test_beginners_shortened(mnist, form):
    assert beginners(mnist, 150, form) >= 0.87


@pytest.fixture
def one_thread():
    """One torch thread: on a shared CI machine, OpenMP threads that spin while waiting for each
    other can make every step of a small CNN many times slower than a single thread."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_deep_mnist_shortened(mnist, one_thread):
    assert deep(mnist, 60, 500) >= 0.6


@pytest.mark.slow
@pytest.mark.parametrize("form", ["log_softmax", "logits"])
def test_beginners_full(mnist, form):
    t0 = time.perf_counter()
    acc = beginners(mnist, 1000, form)
    print(f"\nMNIST for beginners ({form}): test accuracy {acc:.4f} after 1000 steps, {time.perf_counter() - t0:.1f} s")
    assert acc >= 0.91


@pytest.mark.slow
def test_deep_mnist_full(mnist):
    t0 = time.perf_counter()
    acc = deep(mnist, 2000, 2000)
    print(f"\nDeep MNIST: accuracy {acc:.4f} on the first 2000 test images after 2000 steps, "
          f"{time.perf_counter() - t0:.1f} s")
    assert acc >= 0.955


def test_a_train_dir_without_the_files_uses_the_kits_copy_and_a_complete_one_is_verified(tmp_path):
    # TF1 downloads into train_dir when its files are missing; the kit's copy stands in for that.
    sets = input_data.read_data_sets(str(tmp_path / "MNIST_data"), validation_size=0)
    assert sets.train.num_examples == 60000 and not (tmp_path / "MNIST_data").exists()
    from course.data import FILES, MNISTDataError
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in FILES:
        (bad / name).write_bytes(b"\0" * 64)                 # all four present, none of them MNIST
    with pytest.raises(MNISTDataError, match="bad"):
        input_data.read_data_sets(str(bad))
