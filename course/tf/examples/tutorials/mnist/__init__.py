"""`tensorflow.examples.tutorials.mnist`: `from course.tf.examples.tutorials.mnist import input_data`."""
