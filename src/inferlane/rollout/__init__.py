"""Progressive rollouts: the pure state machine and analysis, and the controller that runs them."""
