"""The case overview (issue 15 item 9): the county's cases by state and township, the
deadlines met, and the counts the county watches, for the user's jurisdiction."""
