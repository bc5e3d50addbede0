"""Live mitigation of a shipped LoRA adapter: at lambda = 1 it reproduces the script's run, and scaling
the intruders gives the script's precomputed numbers."""
import pytest

from models.common.errors import InputError
from models.spectral import live, runs


def test_live_mitigation_reproduces_the_script_and_caches():
    name = "lora_r1"
    script = runs.run_metrics(name)
    same = live.live_mitigation(name, 1.0)
    # lambda = 1 is the tuned model: same intruders as the script; accuracy and drift on the live subsets
    # (150 of the script's 600 tweets and 467 fortunes) close to the script's full-size numbers
    assert same["intruders"] == script["mitigation"][0]["intruders"] > 0
    assert same["drift"] == pytest.approx(script["drift"], abs=0.02)
    assert same["accuracy"] == pytest.approx(script["accuracy"], abs=0.06)
    removed = live.live_mitigation(name, 0.0)
    precomputed = next(r for r in script["mitigation"] if r["lambda"] == 0.0)
    assert removed["drift"] == pytest.approx(precomputed["drift"], abs=0.02)
    assert removed["drift"] < same["drift"] - 0.05  # removing r=1's intruders undoes much of its forgetting
    assert live.live_mitigation(name, 0.0) is removed  # cached per (run, lambda, k, eps)
    assert list(live.live_table(name)["lambda"]) == [0.0, 1.0]


def test_live_mitigation_bad_input():
    with pytest.raises(InputError, match="between 0"):
        live.live_mitigation("lora_r1", 3.0)
    with pytest.raises(InputError, match="shipped LoRA adapter"):
        live.live_mitigation("full", 0.5)
