from echosr_edge.cli import main

main()
