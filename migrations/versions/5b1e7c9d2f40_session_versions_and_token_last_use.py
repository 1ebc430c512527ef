"""users.session_version (ends every session and remember-me cookie when raised); api_tokens.last_used_at

Revision ID: 5b1e7c9d2f40
Revises: a3dd1151402e
Create Date: 2026-12-04 10:00:00.000000

Cookies issued before this revision carry no version, so everyone signs in once more.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b1e7c9d2f40'
down_revision = 'a3dd1151402e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='1', nullable=False))
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
