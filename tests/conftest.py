"""Hypothesis profiles: "fast" by default (CI), "thorough" with JITGRAD_HYPOTHESIS=thorough."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "fast", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("JITGRAD_HYPOTHESIS", "fast"))
