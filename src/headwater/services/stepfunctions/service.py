"""``StepFunctionsService``: AWS Step Functions state machines and their executions,
run by headwater's States Language interpreter on the headwater clock."""

from __future__ import annotations

from typing import ClassVar

from headwater.services.base import ServiceEnvironment
from headwater.services.stepfunctions.executions import ExecutionOperations
from headwater.services.stepfunctions.runner import ExecutionRunner
from headwater.services.stepfunctions.store import StepFunctionsStore


class StepFunctionsService(ExecutionOperations):
    """Every Step Functions operation headwater serves; executions run on threads of their
    own and resume after a restart (``runner``)."""

    service_name: ClassVar[str] = "stepfunctions"

    def __init__(self, env: ServiceEnvironment) -> None:
        super().__init__(env)
        self.store = StepFunctionsStore(env.database)
        self.runner = ExecutionRunner(env, self.store).start()

    def close(self) -> None:
        self.runner.close()
        super().close()
