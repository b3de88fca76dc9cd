"""Small synthetic data sets used by the lessons."""
import numpy as np

__all__ = ["sum_below_one", "regression"]


def sum_below_one(n=128, *, seed=1):
    """seed003's 2-D set: X ~ U[0,1)^2 from `RandomState(seed).rand(n, 2)`, y = [x1 + x2 < 1].

    Returns numpy arrays X (n, 2) float64 and Y (n, 1) float64, exactly the tutorial's values.
    """
    X = np.random.RandomState(seed).rand(n, 2)                  # (n, 2)
    Y = (X.sum(axis=1, keepdims=True) < 1).astype(np.float64)   # (n, 1)
    return X, Y


def regression(n=100, features=10, outputs=1, *, noise=0.1, seed=0):
    """Random linear-regression data y = X w + b + noise; returns float32 X, y and the true (w, b)."""
    rng = np.random.RandomState(seed)
    X = rng.rand(n, features).astype(np.float32)                       # (n, F)
    w = rng.randn(features, outputs).astype(np.float32)                # (F, O)
    b = rng.randn(outputs).astype(np.float32)                          # (O,)
    y = (X @ w + b + noise * rng.randn(n, outputs)).astype(np.float32)  # (n, O)
    return X, y, (w, b)
