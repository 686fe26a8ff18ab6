"""Traffic splitting across model versions: weights, stickiness, A/B headers (decide stage, order 400)."""
