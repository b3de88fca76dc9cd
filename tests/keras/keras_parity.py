"""Shared comparison for the Keras-3 parity tests: the same model in real Keras and here, compared on
one batch's loss gradients and on one SGD fit step."""
import numpy as np


def assert_same_gradients_and_fit_step(real, tf, ours, our_tf, theirs, mine, x, y):
    """`theirs` (real Keras) and `mine` (this kit), same weights: equal loss gradients on (x, y), then
    equal weights after one SGD(0.1) `fit` step on the whole batch. Tolerances: float32 sums over a
    few hundred terms, after one step of size 0.1."""
    with tf.GradientTape() as tape:
        lt = real.losses.SparseCategoricalCrossentropy()(y, theirs(x))
    grads_t = tape.gradient(lt, theirs.trainable_variables)
    with our_tf.GradientTape() as tape:
        lm = ours.losses.SparseCategoricalCrossentropy()(y, mine(x))
    grads_m = tape.gradient(lm, mine.trainable_variables)
    np.testing.assert_allclose(float(lm), float(lt), rtol=1e-5)
    for gm, gt in zip(grads_m, grads_t):
        np.testing.assert_allclose(np.asarray(gm), gt.numpy(), rtol=1e-4, atol=1e-6)
    theirs.compile(optimizer=real.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    mine.compile(optimizer=ours.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    theirs.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
    mine.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
    for wm, wt in zip(mine.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(wm, wt, rtol=1e-4, atol=1e-6)
