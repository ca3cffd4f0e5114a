"""Operation stage: strawberry schema extensions that wrap a whole operation
(error hygiene, limits, audit). Each passes through by default."""
