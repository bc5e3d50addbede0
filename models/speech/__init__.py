"""Speech enhancement and separation (issue 4): synthetic data, metrics, engines and models.

``synth`` speaks text offline (espeak-ng/flite), ``data`` builds deterministic noisy and
two-speaker corpora from it, ``metrics`` scores results, ``enhance``/``separate`` hold the engines.
"""
