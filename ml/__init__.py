"""VisionLoop's ML package: datasets, models, training, evaluation and serving, free of Flask."""
