"""Car buying-price model: train, evaluate, predict."""
