"""Jobs of the chat channel."""

from __future__ import annotations

from huey.contrib.djhuey import task

from . import transcripts


@task(retries=3, retry_delay=60)
def chat_transcript_send(conversation_id: int) -> None:
    transcripts.chat_transcript_send(conversation_id=conversation_id)
