import { headers } from "next/headers";
import { redirect } from "next/navigation";

import { auth } from "@/lib/auth";

// The home page: your tasks when signed in, else the sign-in page.
export default async function Home() {
  const session = await auth.api.getSession({ headers: await headers() });
  redirect(session ? `/u/${encodeURIComponent(session.user.id)}/tasks` : "/sign-in");
}
