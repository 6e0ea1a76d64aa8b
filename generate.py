#!/usr/bin/env python3
"""sesreport: policy documents on social and economic security from real indicator data.

Run `python generate.py --help` for the commands.
"""

from sesreport.cli import run

if __name__ == "__main__":
    run()
