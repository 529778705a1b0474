"""Operations a DBA runs (installed with the `cli` extra): the embedded server, seed and scale
data, backup and restore, schema documents, code generation, the demo."""
