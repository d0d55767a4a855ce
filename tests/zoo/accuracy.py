#!/usr/bin/python3
"""Every zoo and trained model through `onyx run` on its reference inputs,
compared with PyTorch's outputs: |got - want| <= 1e-4 * max(1, max|want|)
elementwise, every output.

usage: /usr/bin/python3 tests/zoo/accuracy.py ONYX WORKDIR DIR...
       (DIR: models/zoo (DIR/*/meta.json) and models/trained (DIR/*.meta.json))
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def check(onyx, meta, inputs, want, work):
    got = common.onyx_run(onyx, common.model_path(meta), inputs, work)
    err, scaled = common.compare(got, want, meta["name"])
    return "max abs error %.2g (%.2g of scale)" % (err, scaled)


def main(argv):
    return common.run_checks(argv, __doc__, "accuracy", "models", check)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
