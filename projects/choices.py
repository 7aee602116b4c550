from django.db import models


class Role(models.TextChoices):
    RELEASE_MANAGER = "release_manager", "Release manager"
    ENGINEER = "engineer", "Engineer"
    QA = "qa", "QA"
    PRODUCT_OWNER = "product_owner", "Product owner"
    APPROVER = "approver", "Approver"
    EMERGENCY_APPROVER = "emergency_approver", "Emergency approver"
    AUDITOR = "auditor", "Auditor"
    ADMIN = "admin", "Project admin"


class Tier(models.TextChoices):
    DEVELOPMENT = "development", "Development"
    TESTING = "testing", "Testing"
    STAGING = "staging", "Staging"
    PRODUCTION = "production", "Production"


class TokenScope(models.TextChoices):
    READ = "read", "Read"
    RELEASES = "releases", "Releases"
    DEPLOYMENTS = "deployments", "Deployments"
    TEST_RESULTS = "test_results", "Test results"
    # shipcheck config plan|apply (configfile/): acts for the token's creator, a project admin.
    CONFIG = "config", "Configuration"


# Default environments of a new project, in promotion order.
DEFAULT_ENVIRONMENTS = (
    ("dev", "Development", Tier.DEVELOPMENT),
    ("staging", "Staging", Tier.STAGING),
    ("production", "Production", Tier.PRODUCTION),
)
