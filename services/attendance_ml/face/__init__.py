"""Face recognition service: enrolment, verification, analysis and liveness."""
