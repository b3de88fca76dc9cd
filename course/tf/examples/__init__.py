"""`tensorflow.examples`: the TF1 tutorials' helpers (`tutorials.mnist.input_data`). Names only."""
