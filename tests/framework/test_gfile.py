"""tf.io.gfile / tf.gfile on the local filesystem, against real TensorFlow's behaviour for the same calls."""
import pytest

import course.tf as tf
import course.tf.compat.v1 as v1


def _scenario(gfile, errors, root):
    """The same file operations through a TF2-style gfile module; what each returns or raises."""
    out = []

    def attempt(name, fn):
        try:
            result = fn()
            out.append((name, "ok", result if not hasattr(result, "__next__") else list(result)))
        except Exception as exc:                                  # record which TF error class
            kinds = [k for k in ("NotFoundError", "AlreadyExistsError") if isinstance(exc, getattr(errors, k))]
            out.append((name, "error", kinds))

    attempt("makedirs", lambda: gfile.makedirs(f"{root}/a/b"))
    attempt("makedirs again", lambda: gfile.makedirs(f"{root}/a/b"))
    for name in ("z.txt", "y.txt"):
        with gfile.GFile(f"{root}/a/{name}", "w") as f:
            f.write(name)
    attempt("glob", lambda: sorted(p[len(root):] for p in gfile.glob(f"{root}/a/*.txt")))   # TF: any order
    attempt("exists", lambda: (gfile.exists(f"{root}/a/y.txt"), gfile.exists(f"{root}/nope")))
    attempt("isdir", lambda: (gfile.isdir(f"{root}/a"), gfile.isdir(f"{root}/a/y.txt")))
    attempt("listdir", lambda: sorted(gfile.listdir(f"{root}/a")))
    attempt("read", lambda: gfile.GFile(f"{root}/a/y.txt").read())
    attempt("read missing", lambda: gfile.GFile(f"{root}/a/missing.txt").read())
    attempt("rename onto existing", lambda: gfile.rename(f"{root}/a/y.txt", f"{root}/a/z.txt"))
    attempt("rename overwrite", lambda: gfile.rename(f"{root}/a/y.txt", f"{root}/a/z.txt", overwrite=True))
    attempt("copy", lambda: gfile.copy(f"{root}/a/z.txt", f"{root}/a/c.txt"))
    attempt("copy onto existing", lambda: gfile.copy(f"{root}/a/z.txt", f"{root}/a/c.txt"))
    attempt("remove missing", lambda: gfile.remove(f"{root}/a/y.txt"))
    attempt("rmtree", lambda: gfile.rmtree(f"{root}/a"))
    attempt("rmtree missing", lambda: gfile.rmtree(f"{root}/a"))
    return out


def test_gfile_behaves_like_tensorflows(tmp_path):
    real = pytest.importorskip("tensorflow")
    theirs = _scenario(real.io.gfile, real.errors, str(tmp_path / "tf"))
    ours = _scenario(tf.io.gfile, tf.errors, str(tmp_path / "ours"))
    assert ours == theirs


def test_tf1_names_are_the_same_functions(tmp_path):
    assert v1.gfile.Exists is tf.io.gfile.exists and v1.gfile.DeleteRecursively is tf.io.gfile.rmtree
    v1.gfile.MakeDirs(str(tmp_path / "logs"))
    assert v1.gfile.IsDirectory(str(tmp_path / "logs")) and v1.gfile.ListDirectory(str(tmp_path)) == ["logs"]
    with pytest.raises(tf.errors.NotFoundError, match="x; No such file or directory"):
        tf.io.read_file(str(tmp_path / "x"))                       # TF's error, as real TF raises it
