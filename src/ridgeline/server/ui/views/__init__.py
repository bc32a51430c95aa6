"""One module per page: its route and the data it hands to its template."""
