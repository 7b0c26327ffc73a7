// Inter-layer planner (see docs/manifest.md). Under construction.
#pragma once
