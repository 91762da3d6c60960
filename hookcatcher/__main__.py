from hookcatcher.cli.main import main

raise SystemExit(main())
