#!/usr/bin/python3
"""Writes the example networks (see README.md here); the same as
``python3 -m bitserial.models`` with python/ on the path.

    examples/models/generate.py resnet18 -o build/models --resolution 224
    examples/models/generate.py mlp -o build/models
    examples/models/generate.py check build/models/mlp OUT.npy
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))

from bitserial.models import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
