"""Master-data imports with data-quality reports: CSV or XLSX files mapped to dictionary fields,
checked row by row with the API's own rules, good rows committed, bad rows kept in an inbox to
be corrected and replayed (see ``docs/integration.md``, "Imports")."""
