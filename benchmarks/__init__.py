"""Speed benchmark of berdaya against Mesa's own BoltzmannWealth example.

Run ``python -m benchmarks`` from the repository root (``--quick`` for the reduced set,
``--full`` to add 1,000,000 households, ``--out FILE.json`` for the result file). See
:mod:`benchmarks.__main__` for what is measured and :mod:`benchmarks.profiling` for a
cProfile breakdown of one large run.
"""
