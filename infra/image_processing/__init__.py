"""AWS CDK application of the image-processing business unit.

One stack per environment, composed of small constructs named after the boxes of
``docs/architecture/image-processing.png``: network, keys, archive, metadata, upload API, Kafka
stream, processing, analytics and purge audit. ``config.py`` holds the per-environment numbers.
"""
