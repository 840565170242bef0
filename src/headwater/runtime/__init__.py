"""Function runtime: warm worker processes, invocations, logs (see DESIGN.md).

``InvocationResult`` is the contract with the ESM engine and the wire layer.
"""

from headwater.runtime.environment import FunctionSpec
from headwater.runtime.invocation import InvocationRequest, InvocationResult

__all__ = ["FunctionSpec", "InvocationRequest", "InvocationResult"]
