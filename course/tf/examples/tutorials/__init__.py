"""`tensorflow.examples.tutorials`. Names only."""
