"""Deployment settings, read from environment variables (or CDK context).

Every setting is looked up first in the environment, then in the CDK context
under the same name (``cdk synth -c OAUTH_CLIENT_ID=...``).  Nothing here talks
to AWS: account and region are explicit and availability zones come from
Fn::GetAZs (or AVAILABILITY_ZONES), so synthesis never needs a context lookup.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path

APP_NAME = "exitus"
CONTAINER_PORT = 8080
DB_PORT = 5432
DB_NAME = "exitus"
DB_USERNAME = "exitus"
# The service's own login role (created by a migration, see README "Secrets and rotation"); the multi-user
# rotation alternates it with DB_APP_USERNAME + "_clone".
DB_APP_USERNAME = "exitus_app"
# Prometheus metrics: a listener of their own (exitus METRICS_ADDR), never routed by the load balancer.
METRICS_PORT = 9090
UID = 10001  # the image's unprivileged user (Dockerfile: useradd --uid 10001)
# The RDS CA bundle the Dockerfile puts in the image, for sslmode=verify-full.
RDS_CA_BUNDLE = "/opt/exitus/share/rds-global-bundle.pem"
SECRET_ROTATION_DAYS = 30
# UTC. Backups first, then maintenance, both at night in the default region (ap-southeast-2 is UTC+10/+11).
DB_BACKUP_WINDOW = "14:00-14:30"
DB_MAINTENANCE_WINDOW = "sun:15:00-sun:16:00"
# Where backups are copied when BACKUP_REGION is not set: a second region in the same jurisdiction.
BACKUP_REGION_PAIRS = {
    "ap-southeast-2": "ap-southeast-4",
    "ap-southeast-4": "ap-southeast-2",
    "us-east-1": "us-west-2",
    "us-west-2": "us-east-1",
    "eu-west-1": "eu-central-1",
    "eu-central-1": "eu-west-1",
}
SERVICE_DB_SECRETS = ("master", "app")

PLACEHOLDER_ACCOUNT = "123456789012"
DEFAULT_REGION = "ap-southeast-2"
PROD_STAGES = frozenset({"prod", "production"})

# infra/exitus_infra/config.py -> repository root (the Docker build context).
REPO_ROOT = Path(__file__).resolve().parents[2]

REQUIRED = (
    "DOMAIN_NAME",
    "HOSTED_ZONE_ID",
    "ACM_CERTIFICATE_ARN",
    "OPENID_PROVIDER_URL",
    "OAUTH_CLIENT_ID",
)

_STAGE_RE = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
_ACM_ARN_RE = re.compile(r"^arn:aws[a-z-]*:acm:(?P<region>[a-z0-9-]+):\d{12}:certificate/[A-Za-z0-9-]+$")


class ConfigError(ValueError):
    """Raised when the deployment settings are missing or inconsistent."""


@dataclasses.dataclass(frozen=True)
class Config:
    stage: str
    branch: str
    domain_name: str
    hosted_zone_id: str
    hosted_zone_name: str
    certificate_arn: str
    openid_provider_url: str
    oauth_client_id: str
    account: str
    region: str
    # Empty: the first two zones of the region, resolved by CloudFormation (Fn::GetAZs).
    availability_zones: tuple[str, ...] = ()
    image_tag: str | None = None
    docker_context: Path = REPO_ROOT
    # Region of the backup copies (exitus-backup-<stage>); never the stack's own region.
    backup_region: str = "ap-southeast-4"
    # Subscribed to the alarm topic when set.
    alarm_email: str | None = None
    # Which secret the service connects with: "master" until the migration creating DB_APP_USERNAME has run
    # and exitus/<stage>/db-app has rotated once, then "app" (README "Secrets and rotation").
    service_db_secret: str = "master"
    # Requests per client IP in any 5 minutes before WAF answers 429.
    waf_rate_limit: int = 2000

    @property
    def is_prod(self) -> bool:
        return self.stage in PROD_STAGES

    @property
    def prefix(self) -> str:
        """Name prefix for physical names, e.g. ``exitus-dev``."""
        return f"{APP_NAME}-{self.stage}"

    @property
    def repository_name(self) -> str:
        return self.prefix

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        context: Callable[[str], object] | None = None,
    ) -> Config:
        env = os.environ if env is None else env

        def get(name: str, default: str | None = None) -> str | None:
            value = env.get(name)
            if not value and context is not None:
                ctx = context(name)
                value = str(ctx) if ctx not in (None, "") else None
            return value.strip() if value else default

        missing = [name for name in REQUIRED if not get(name)]
        if missing:
            raise ConfigError(
                "missing required settings (set them as environment variables or "
                f"with `cdk synth -c NAME=value`): {', '.join(missing)}"
            )

        stage = get("STAGE", "dev")
        if not _STAGE_RE.match(stage):
            raise ConfigError(f"STAGE must match {_STAGE_RE.pattern}, got {stage!r}")

        region = get("CDK_DEPLOY_REGION") or get("CDK_DEFAULT_REGION") or get("AWS_REGION") or DEFAULT_REGION
        account = get("CDK_DEPLOY_ACCOUNT") or get("CDK_DEFAULT_ACCOUNT") or PLACEHOLDER_ACCOUNT

        certificate_arn = get("ACM_CERTIFICATE_ARN")
        match = _ACM_ARN_RE.match(certificate_arn)
        if not match:
            raise ConfigError(f"ACM_CERTIFICATE_ARN is not an ACM certificate ARN: {certificate_arn!r}")
        if match.group("region") != region:
            raise ConfigError(
                f"ACM_CERTIFICATE_ARN is in {match.group('region')} but the stack deploys to {region}; "
                "an ALB certificate must live in the load balancer's region"
            )

        openid_provider_url = get("OPENID_PROVIDER_URL")
        if not openid_provider_url.startswith("https://"):
            raise ConfigError("OPENID_PROVIDER_URL must be an https:// URL")

        domain_name = get("DOMAIN_NAME").rstrip(".")
        azs = get("AVAILABILITY_ZONES")
        availability_zones = tuple(az.strip() for az in azs.split(",") if az.strip()) if azs else ()
        if azs and len(availability_zones) != 2:
            raise ConfigError("AVAILABILITY_ZONES needs exactly two zones, comma-separated")

        backup_region = get("BACKUP_REGION") or BACKUP_REGION_PAIRS.get(region)
        if not backup_region:
            raise ConfigError(f"BACKUP_REGION is required: no default backup region is known for {region}")
        if backup_region == region:
            raise ConfigError("BACKUP_REGION must differ from the deployment region (a copy elsewhere is the point)")

        service_db_secret = get("SERVICE_DB_SECRET", "master")
        if service_db_secret not in SERVICE_DB_SECRETS:
            raise ConfigError(f"SERVICE_DB_SECRET must be one of {', '.join(SERVICE_DB_SECRETS)}")

        waf_rate_limit = get("WAF_RATE_LIMIT", "2000")
        if not waf_rate_limit.isdigit() or not 10 <= int(waf_rate_limit) <= 2_000_000_000:
            raise ConfigError("WAF_RATE_LIMIT must be a whole number of requests between 10 and 2000000000")

        alarm_email = get("ALARM_EMAIL")
        if alarm_email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", alarm_email):
            raise ConfigError(f"ALARM_EMAIL is not an email address: {alarm_email!r}")

        return cls(
            stage=stage,
            branch=get("BRANCH", "main"),
            domain_name=domain_name,
            hosted_zone_id=get("HOSTED_ZONE_ID"),
            hosted_zone_name=get("HOSTED_ZONE_NAME", domain_name).rstrip("."),
            certificate_arn=certificate_arn,
            openid_provider_url=openid_provider_url,
            oauth_client_id=get("OAUTH_CLIENT_ID"),
            account=account,
            region=region,
            availability_zones=availability_zones,
            image_tag=get("IMAGE_TAG"),
            backup_region=backup_region,
            alarm_email=alarm_email,
            service_db_secret=service_db_secret,
            waf_rate_limit=int(waf_rate_limit),
        )
