"""Exchange codebooks and coded documents with QDA programs through REFI-QDA.

REFI-QDA (www.qdasoftware.org) is the exchange format that NVivo, ATLAS.ti, MAXQDA and QualCoder
share. A codebook travels as a ``.qdc`` file (XML, namespace ``urn:QDA-XML:codebook:1.0``); a
whole project as a ``.qdpx`` file, a zip holding ``project.qde`` (XML, namespace
``urn:QDA-XML:project:1.0``) and the plain text of every document under ``sources/``.

* :mod:`pipeline.refi.write` renders both to bytes (pure, byte-deterministic).
* :mod:`pipeline.refi.read` reads them back, including files made by the other programs, and
  refuses XML entities (entity-expansion bombs, external entities) before anything is expanded.

Decisions shared by both sides:

* GUIDs are uuid5 values under one fixed namespace, so a code, a user or a document keeps its
  GUID from one export to the next (:func:`pipeline.refi.write.code_guid` and friends).
* A code's id (``alignment.aid``) lives in the first line of its ``<Description>``, as
  ``id: alignment.aid``, followed by a blank line and the definition: the schema has no other
  free field on a code, and the description is what the programs show to the coder. The reader
  also recognises a code by its GUID when it is told the codebook's ids, so a program that drops
  descriptions still maps back.
* Offsets (``startPosition``/``endPosition``) are Unicode code points into the stored plain
  text, ``end`` exclusive, as in the rest of the pipeline.
"""
