"""detections: source (detector or user), created_at and a drawn face's model_version; status may be not_a_face

Revision ID: a3dd1151402e
Revises: 32b62d991cf3
Create Date: 2026-12-03 12:00:00.000000

The status column is a VARCHAR(16) without a CHECK constraint, so 'not_a_face' needs no schema change.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3dd1151402e'
down_revision = '32b62d991cf3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('detections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=16), server_default='detector', nullable=False))
        batch_op.add_column(sa.Column('created_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('model_version', sa.String(length=64), nullable=True))
    # Every detection made so far was found when its photo was classified.
    op.execute('UPDATE detections SET created_at = (SELECT predictions.created_at FROM results '
               'JOIN predictions ON predictions.id = results.prediction_id WHERE results.id = detections.result_id)')
    with op.batch_alter_table('detections', schema=None) as batch_op:
        batch_op.alter_column('created_at', existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade():
    # The earlier schema knows no 'not_a_face' status: such a box reads as corrected to its class folder's name.
    op.execute("UPDATE detections SET status = 'corrected' WHERE status = 'not_a_face'")
    with op.batch_alter_table('detections', schema=None) as batch_op:
        batch_op.drop_column('model_version')
        batch_op.drop_column('created_at')
        batch_op.drop_column('source')
