from exitus.cli import main

raise SystemExit(main())
