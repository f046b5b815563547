"""HTTP edge: parse → call the task service → serialise. No business rules here."""
