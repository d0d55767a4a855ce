#!/usr/bin/python3
"""Every zoo and trained model through `onyx run` on its reference inputs,
compared with PyTorch's outputs: |got - want| <= 1e-4 * max(1, max|want|)
elementwise, every output.

usage: /usr/bin/python3 tests/zoo/accuracy.py ONYX WORKDIR DIR...
       (DIR: models/zoo (DIR/*/meta.json) and models/trained (DIR/*.meta.json))
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def main(argv):
    if len(argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    onyx, work, dirs = argv[1], argv[2], argv[3:]
    models = common.metas(dirs)
    if not models:
        print("FAIL: no models under %s (run `make models`)" % " ".join(dirs))
        return 1
    failures = 0
    t0 = time.time()
    for meta in models:
        name = meta["name"]
        inputs, want = common.reference(meta)
        try:
            got = common.onyx_run(onyx, common.model_path(meta), inputs, os.path.join(work, name))
            err, scaled = common.compare(got, want, name)
            print("PASS %-20s max abs error %.2g (%.2g of scale)" % (name, err, scaled))
        except (common.OnyxError, AssertionError) as e:
            print("FAIL %s: %s" % (name, e))
            failures += 1
    print("accuracy: %d models, %d failed (%.1fs)" % (len(models), failures, time.time() - t0))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
