"""What staff use: the call-centre desk, case actions, the JSON API and the browser console."""
