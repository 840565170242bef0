"""The AWS-shaped services, in Python, no HTTP.

Each service takes boto3-shaped request parameters (PascalCase keys, Python values:
``bytes`` for blobs) and returns boto3-shaped responses (``datetime`` for timestamp
members, ``bytes`` for blobs) without ``ResponseMetadata``. Errors are ``AwsError``.
"""
