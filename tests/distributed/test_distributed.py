"""Data-parallel training (course.distributed) against independent references.

- sharding against torch.utils.data.DistributedSampler itself;
- a two-process gloo run of seed004's MLP against one process (a plain torch loop with
  torch.optim.SGD) taking the same global batches: the weights agree to 1e-5;
- the launcher's environment and its failure handling.
"""
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DistributedSampler

from course.distributed import from_environ, launch, local_batch_size, shard_indices, worker_env

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize("n,world,shuffle,drop_last", [(10, 2, True, False), (11, 3, True, False),
                                                        (11, 3, False, False), (11, 3, True, True),
                                                        (7, 4, True, False), (2, 5, True, False),
                                                        (64, 2, True, True)])
def test_shards_match_distributed_sampler(n, world, shuffle, drop_last):
    for epoch in (0, 3):
        for rank in range(world):
            ref = DistributedSampler(range(n), num_replicas=world, rank=rank, shuffle=shuffle, seed=5,
                                     drop_last=drop_last)
            ref.set_epoch(epoch)
            got = shard_indices(n, rank, world, epoch=epoch, seed=5, shuffle=shuffle, drop_last=drop_last)
            assert got.tolist() == list(ref), (n, world, rank, epoch)


def test_local_batches_make_up_the_global_batch():
    n, world, B = 256, 4, 64
    b = local_batch_size(B, world)
    order = DistributedSampler(range(n), num_replicas=1, rank=0, seed=1)    # one process, all the data
    order.set_epoch(2)
    order = list(order)
    shards = [shard_indices(n, r, world, epoch=2, seed=1) for r in range(world)]
    for i in range(n // B):
        together = sorted(int(j) for s in shards for j in s[i * b:(i + 1) * b])
        assert together == sorted(order[i * B:(i + 1) * B])


def test_uneven_global_batch_is_refused():
    with pytest.raises(ValueError, match="does not split evenly over 3 processes"):
        local_batch_size(64, 3)


def test_environment_is_read_and_checked():
    env = from_environ({"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1", "MASTER_ADDR": "h", "MASTER_PORT": "123"})
    assert (env.rank, env.world_size, env.local_rank, env.master_addr, env.master_port) == (1, 2, 1, "h", 123)
    assert from_environ({}).world_size == 1 and from_environ({}).is_main
    with pytest.raises(ValueError, match="RANK < WORLD_SIZE"):
        from_environ({"RANK": "2", "WORLD_SIZE": "2", "MASTER_PORT": "1"})
    with pytest.raises(ValueError, match="MASTER_ADDR/MASTER_PORT are not set"):
        from_environ({"RANK": "0", "WORLD_SIZE": "2"})
    e = worker_env(1, 3, 4567, base={})
    assert {k: e[k] for k in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_PORT")} == \
        {"RANK": "1", "LOCAL_RANK": "1", "WORLD_SIZE": "3", "MASTER_PORT": "4567"}


def test_launch_stops_the_job_when_a_process_fails(capsys, tmp_path):
    # Rank 1 fails only after rank 0 has printed (a file says so), so on a slow machine the launcher
    # cannot stop rank 0 before its line appears; rank 0 then sleeps until it is stopped.
    said = tmp_path / "rank0-said-hello"
    script = ("import os, sys, time, pathlib\n"
              f"said = pathlib.Path({str(said)!r})\n"
              "r = int(os.environ['RANK'])\n"
              "print('hello from', r, 'of', os.environ['WORLD_SIZE'], flush=True)\n"
              "if r == 0:\n"
              "    said.touch()\n"
              "    time.sleep(120)\n"
              "deadline = time.monotonic() + 60\n"
              "while not said.exists() and time.monotonic() < deadline:\n"
              "    time.sleep(0.05)\n"
              "sys.exit(3)\n")
    status = launch(2, ["-c", script], module=None, timeout=90)
    out = capsys.readouterr().out
    assert status == 3
    assert "hello from 0 of 2" in out and "[rank 1] hello from 1 of 2" in out


def _reference_sgd(x, y, weights, *, batch_size, epochs, lr, seed):
    """One process, plain torch: seed004's MLP, F.cross_entropy on the logits, torch.optim.SGD,
    the global batches in DistributedSampler(num_replicas=1)'s order."""
    w1, b1, w2, b2 = (torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in weights)
    opt = torch.optim.SGD([w1, b1, w2, b2], lr=lr)
    xd = x.to(torch.float64) / 255.0                                         # (N, 784)
    for epoch in range(epochs):
        sampler = DistributedSampler(range(len(x)), num_replicas=1, rank=0, shuffle=True, seed=seed)
        sampler.set_epoch(epoch)
        order = torch.tensor(list(sampler))
        for lo in range(0, len(x), batch_size):
            idx = order[lo:lo + batch_size]
            logits = torch.relu(xd[idx] @ w1 + b1) @ w2 + b2                 # (B, 10)
            loss = F.cross_entropy(logits, y[idx].long())
            opt.zero_grad()
            loss.backward()
            opt.step()
    return [t.detach().numpy() for t in (w1, b1, w2, b2)]


def _run_worker(tmp_path, nproc, *extra):
    from course.distributed.__main__ import main  # noqa: F401  (fail here if the module does not import)
    out = tmp_path / f"weights_{nproc}.npz"
    cmd = [sys.executable, "-m", "course.distributed", "--nproc", str(nproc), "--save", str(out), *map(str, extra)]
    env = dict(os.environ, OMP_NUM_THREADS="1", COURSE_DEVICE="cpu")
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    with np.load(out) as f:
        return [f[k] for k in sorted(f.files, key=lambda k: int(k.split("_")[1]))], done.stdout


def test_two_processes_take_the_steps_of_one(tmp_path):
    """2 gloo processes x 32 samples = one process with batch 64, for 16 SGD steps."""
    import course.data
    from course.distributed.__main__ import build_seed004

    n, batch, epochs, lr, seed = 512, 64, 2, 0.1, 7
    weights, out = _run_worker(tmp_path, 2, "--limit", n, "--batch-size", batch, "--epochs", epochs,
                               "--optimizer", "sgd", "--learning-rate", lr, "--seed", seed)
    assert "2 process(es), backend gloo" in out and "global batch 64 = 2 x 32" in out
    assert "samples/s" in out

    start = [w.detach().cpu().numpy() for w in build_seed004(seed).weights]      # rank 0's initial weights
    (x, y), (xt, yt) = course.data.load_mnist()
    expected = _reference_sgd(x[:n].reshape(n, -1), y[:n], start, batch_size=batch, epochs=epochs, lr=lr,
                              seed=seed)
    assert [w.shape for w in weights] == [w.shape for w in expected]
    for got, want, s in zip(weights, expected, start):
        assert np.abs(want - s).max() > 1e-3                      # training moved the weights
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)

    # The compiled loss and accuracy, evaluated by both processes on their shards of the test set and
    # summed over them, are those of the final weights over all 10,000 test images (numpy, float64).
    xt = xt.reshape(len(xt), -1).numpy().astype(np.float64) / 255.0
    yt = yt.numpy().astype(np.int64)
    logits = np.maximum(xt @ weights[0] + weights[1], 0.0) @ weights[2] + weights[3]          # (10000, 10)
    shifted = logits - logits.max(1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    loss, acc = -log_p[np.arange(len(yt)), yt].mean(), (logits.argmax(1) == yt).mean()
    printed = re.search(r"test loss ([0-9.]+), test accuracy ([0-9.]+)", out)
    assert printed, out
    assert abs(float(printed[1]) - loss) < 1.5e-4 and abs(float(printed[2]) - acc) < 1.5e-4, (printed[0], loss, acc)


# -- tf.distribute facade ---------------------------------------------------------------------------
@pytest.fixture
def on_cpu():
    import course.device
    course.device.set_default("cpu")
    yield
    course.device.set_default(None)


def test_mirrored_strategy_with_one_replica_is_transparent(monkeypatch, on_cpu):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    import course.device
    import course.tf.distribute as distribute
    from course.tf import keras

    strategy = distribute.MirroredStrategy()
    assert strategy.num_replicas_in_sync == 1
    assert not distribute.has_strategy() and distribute.get_strategy().num_replicas_in_sync == 1
    x = np.random.default_rng(0).random((64, 4)).astype("float32")
    y = (x.sum(1) > 2).astype("int64")
    results = []
    for use_scope in (True, False):
        course.device.seed(3)
        ctx = strategy.scope() if use_scope else __import__("contextlib").nullcontext()
        with ctx:
            if use_scope:
                assert distribute.get_strategy() is strategy and distribute.has_strategy()
            model = keras.Sequential([keras.layers.Dense(2, activation="softmax", input_shape=(4,))])
            model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
        results.append([w.numpy() for w in model.weights])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
    assert strategy.run(lambda a, b: a + b, args=(1, 2)) == 3
    summed = strategy.reduce(distribute.ReduceOp.SUM, np.arange(6.0).reshape(2, 3), axis=0)
    np.testing.assert_allclose(np.asarray(summed), [3.0, 5.0, 7.0])


def test_mirrored_strategy_points_to_ddp_where_it_cannot_mirror(monkeypatch):
    import course.tf.distribute as distribute

    two = distribute.MirroredStrategy(["/gpu:0", "/gpu:1"])
    assert two.num_replicas_in_sync == 2
    with pytest.raises(NotImplementedError, match=r"course train --nproc 2"):
        with two.scope():
            pass
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(NotImplementedError, match=r"course\.distributed\.fit"):
        with distribute.MirroredStrategy().scope():
            pass
    with pytest.raises(NotImplementedError, match="torchrun"):
        distribute.MultiWorkerMirroredStrategy()
    with pytest.raises(NotImplementedError):
        distribute.TPUStrategy


# -- course train --nproc N ---------------------------------------------------------------------------
def test_nproc_option_defers_to_the_job(monkeypatch):
    import argparse

    from course.distributed import cli as dist_cli

    parser = argparse.ArgumentParser()
    dist_cli.add_arguments(parser)
    assert parser.parse_args([]).nproc == 1
    args = parser.parse_args(["--nproc", "2"])
    args.command = "train"
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("MASTER_PORT", "1234")
    assert dist_cli.maybe_launch(args, ["train", "--nproc", "2"]) is None      # already one rank of the job
    assert not dist_cli.is_main()
    monkeypatch.delenv("WORLD_SIZE")
    monkeypatch.delenv("RANK")
    assert dist_cli.maybe_launch(parser.parse_args([])) is None                # one process: nothing to launch
    with pytest.raises(RuntimeError, match="pass argv"):
        dist_cli.maybe_launch(args)                    # sys.argv is pytest's here, not a `train` command


@pytest.mark.slow
def test_course_train_nproc_2_end_to_end(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1", COURSE_DEVICE="cpu", COURSE_FAST="1")
    done = subprocess.run([sys.executable, "-m", "course.cli", "train", "--nproc", "2", "--output", str(tmp_path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 process(es), backend gloo" in done.stdout and "Test accuracy:" in done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.csv", "history.png", "model.keras"]
