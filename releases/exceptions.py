from core.exceptions import Conflict, TransitionNotAllowed, ValidationFailed

__all__ = ["GateBlocked", "InvalidVersion", "TransitionNotAllowed", "DuplicateVersion"]


class GateBlocked(Conflict):
    code = "gate_closed"

    def __init__(self, report):
        reasons = [gate.reason for gate in report.closed]
        super().__init__(
            f"{report.release.version} may not enter {report.environment}: " + " ".join(reasons),
            details={"environment": report.environment.name, "gates": report.as_list()},
        )
        self.report = report


class InvalidVersion(ValidationFailed):
    code = "invalid_version"


class DuplicateVersion(ValidationFailed):
    code = "duplicate_version"
