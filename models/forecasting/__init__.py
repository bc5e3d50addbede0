"""CycleNet (RCF) and SparseTSF forecasting: data, models, training, checkpoints."""
