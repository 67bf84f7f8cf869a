"""Ingest stage: drops of PDF, DOCX, HTML and text files into the corpus store."""
