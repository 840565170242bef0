"""headwater: AWS Lambda event source mappings (SQS, Kinesis, DynamoDB Streams) anywhere."""

from importlib.metadata import PackageNotFoundError, version

from headwater.app import Headwater
from headwater.core.clock import Clock, ManualClock, ScaledClock, SystemClock
from headwater.core.errors import AwsError, HeadwaterClosed, HeadwaterError

try:
    __version__ = version("headwater")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"

__all__ = [
    "AwsError",
    "Clock",
    "Headwater",
    "HeadwaterClosed",
    "HeadwaterError",
    "ManualClock",
    "ScaledClock",
    "SystemClock",
    "__version__",
]
