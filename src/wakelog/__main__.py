from wakelog.cli import main

main()
