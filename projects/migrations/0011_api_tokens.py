"""API tokens stored as digests; DRF's plain authtoken keys are hashed into the new table (so
scripts keep working, for API_TOKEN_DAYS from now) and removed from theirs."""

import hashlib
from datetime import UTC, timedelta

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone
from django.utils.dateparse import parse_datetime

LEGACY_TABLE = "authtoken_token"  # rest_framework.authtoken, no longer installed


def plain_tokens_hash(apps, schema_editor):
    connection = schema_editor.connection
    if LEGACY_TABLE not in connection.introspection.table_names():
        return  # a database made after the change
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quote('key')}, user_id, created FROM {quote(LEGACY_TABLE)}")
        rows = cursor.fetchall()
    ApiToken = apps.get_model("projects", "ApiToken")
    now = timezone.now()
    expires_at = now + timedelta(days=settings.API_TOKEN_DAYS) if settings.API_TOKEN_DAYS else None
    tokens = []
    for key, user_id, created in rows:
        if isinstance(created, str):  # SQLite without its column type
            created = parse_datetime(created)
        if created is not None and timezone.is_naive(created):
            created = timezone.make_aware(created, UTC)
        tokens.append(
            ApiToken(
                user_id=user_id,
                name="Migrated token",
                prefix=key[:8],
                digest=hashlib.sha256(key.encode()).hexdigest(),
                created_at=created or now,
                expires_at=expires_at,
            )
        )
    ApiToken.objects.bulk_create(tokens, batch_size=1000)
    with connection.cursor() as cursor:  # the plain keys leave the database
        cursor.execute(f"DELETE FROM {quote(LEGACY_TABLE)}")


class Migration(migrations.Migration):

    dependencies = [
        ('projects', '0010_monitor'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ApiToken',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100)),
                ('prefix', models.CharField(max_length=16)),
                ('digest', models.CharField(max_length=64)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('expires_at', models.DateTimeField(blank=True, help_text='Empty: never.', null=True)),
                ('last_used_at', models.DateTimeField(blank=True, null=True)),
                ('revoked_at', models.DateTimeField(blank=True, null=True)),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='api_tokens', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-created_at', '-id'],
                'constraints': [models.UniqueConstraint(fields=('digest',), name='api_token_digest_unique')],
            },
        ),
        migrations.RunPython(plain_tokens_hash, migrations.RunPython.noop),
    ]
