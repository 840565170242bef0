"""AWS Step Functions: state machines (Amazon States Language) run on the headwater clock."""

from headwater.services.stepfunctions.service import StepFunctionsService

__all__ = ["StepFunctionsService"]
