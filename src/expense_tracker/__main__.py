from expense_tracker.cli import main

main()
