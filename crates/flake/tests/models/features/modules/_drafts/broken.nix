# Skipped by import-tree (a path component starts with `_`).
throw "modules/_drafts must not be imported"
