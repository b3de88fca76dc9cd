# TensorFlow 1's "TensorFlow Mechanics 101" tutorial (fully_connected_feed.py with its mnist.py),
# written from its public description: a 784-128-32-10 network built in name scopes, the loss from
# tf.losses.sparse_softmax_cross_entropy, plain gradient descent with a global step, evaluation by
# tf.nn.in_top_k on the training, validation and test sets, a scalar summary and a Saver checkpoint
# every 1000 steps, driven by tf.app.run. (The original's default folders are absolute; here they
# are relative.)
import argparse
import math
import os
import sys
import time

import tensorflow as tf
from tensorflow.examples.tutorials.mnist import input_data

NUM_CLASSES = 10
IMAGE_PIXELS = 28 * 28
FLAGS = None


def inference(images, hidden1_units, hidden2_units):
    def layer(inputs, fan_in, fan_out, scope):
        with tf.name_scope(scope):
            weights = tf.Variable(tf.truncated_normal([fan_in, fan_out], stddev=1.0 / math.sqrt(float(fan_in))),
                                  name='weights')
            biases = tf.Variable(tf.zeros([fan_out]), name='biases')
            return tf.matmul(inputs, weights) + biases
    hidden1 = tf.nn.relu(layer(images, IMAGE_PIXELS, hidden1_units, 'hidden1'))
    hidden2 = tf.nn.relu(layer(hidden1, hidden1_units, hidden2_units, 'hidden2'))
    return layer(hidden2, hidden2_units, NUM_CLASSES, 'softmax_linear')


def loss(logits, labels):
    return tf.losses.sparse_softmax_cross_entropy(labels=tf.to_int64(labels), logits=logits)


def training(loss_op, learning_rate):
    tf.summary.scalar('loss', loss_op)
    global_step = tf.Variable(0, name='global_step', trainable=False)
    return tf.train.GradientDescentOptimizer(learning_rate).minimize(loss_op, global_step=global_step)


def evaluation(logits, labels):
    return tf.reduce_sum(tf.cast(tf.nn.in_top_k(logits, labels, 1), tf.int32))


def fill_feed_dict(data_set, images_pl, labels_pl):
    images, labels = data_set.next_batch(FLAGS.batch_size, FLAGS.fake_data)
    return {images_pl: images, labels_pl: labels}


def do_eval(sess, eval_correct, images_pl, labels_pl, data_set):
    steps_per_epoch = data_set.num_examples // FLAGS.batch_size
    num_examples = steps_per_epoch * FLAGS.batch_size
    true_count = 0
    for _ in range(steps_per_epoch):
        true_count += sess.run(eval_correct, feed_dict=fill_feed_dict(data_set, images_pl, labels_pl))
    print('Num examples: %d  Num correct: %d  Precision @ 1: %0.04f'
          % (num_examples, true_count, float(true_count) / num_examples))


def run_training():
    data_sets = input_data.read_data_sets(FLAGS.input_data_dir, FLAGS.fake_data)
    with tf.Graph().as_default():
        images_pl = tf.placeholder(tf.float32, shape=(FLAGS.batch_size, IMAGE_PIXELS))
        labels_pl = tf.placeholder(tf.int32, shape=(FLAGS.batch_size,))
        logits = inference(images_pl, FLAGS.hidden1, FLAGS.hidden2)
        loss_op = loss(logits, labels_pl)
        train_op = training(loss_op, FLAGS.learning_rate)
        eval_correct = evaluation(logits, labels_pl)
        summary = tf.summary.merge_all()
        init = tf.global_variables_initializer()
        saver = tf.train.Saver()
        sess = tf.Session()
        summary_writer = tf.summary.FileWriter(FLAGS.log_dir, sess.graph)
        sess.run(init)
        for step in range(FLAGS.max_steps):
            start_time = time.time()
            feed_dict = fill_feed_dict(data_sets.train, images_pl, labels_pl)
            _, loss_value = sess.run([train_op, loss_op], feed_dict=feed_dict)
            duration = time.time() - start_time
            if step % 100 == 0:
                print('Step %d: loss = %.2f (%.3f sec)' % (step, loss_value, duration))
                summary_str = sess.run(summary, feed_dict=feed_dict)
                summary_writer.add_summary(summary_str, step)
                summary_writer.flush()
            if (step + 1) % 1000 == 0 or (step + 1) == FLAGS.max_steps:
                saver.save(sess, os.path.join(FLAGS.log_dir, 'model.ckpt'), global_step=step)
                print('Training Data Eval:')
                do_eval(sess, eval_correct, images_pl, labels_pl, data_sets.train)
                print('Validation Data Eval:')
                do_eval(sess, eval_correct, images_pl, labels_pl, data_sets.validation)
                print('Test Data Eval:')
                do_eval(sess, eval_correct, images_pl, labels_pl, data_sets.test)


def main(_):
    if tf.gfile.Exists(FLAGS.log_dir):
        tf.gfile.DeleteRecursively(FLAGS.log_dir)
    tf.gfile.MakeDirs(FLAGS.log_dir)
    run_training()


if __name__ == '__main__':
    parser = argparse.ArgumentParser()
    parser.add_argument('--learning_rate', type=float, default=0.01)
    parser.add_argument('--max_steps', type=int, default=2000)
    parser.add_argument('--hidden1', type=int, default=128)
    parser.add_argument('--hidden2', type=int, default=32)
    parser.add_argument('--batch_size', type=int, default=100)
    parser.add_argument('--input_data_dir', type=str, default='mnist/input_data')
    parser.add_argument('--log_dir', type=str, default='mnist/logs/fully_connected_feed')
    parser.add_argument('--fake_data', default=False, action='store_true')
    FLAGS, unparsed = parser.parse_known_args()
    tf.app.run(main=main, argv=[sys.argv[0]] + unparsed)
