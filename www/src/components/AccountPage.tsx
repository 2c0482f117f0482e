import { DeleteAccount } from './DeleteAccount';
import { DownloadMyData } from './DownloadMyData';
import { usePageTitle } from './PageTitle';

/** What the user can do with their account and data as a whole. */
export function AccountPage() {
  const headingRef = usePageTitle('Your account');
  return (
    <section className="page" aria-labelledby="account-heading">
      <h1 id="account-heading" ref={headingRef} tabIndex={-1}>
        Your account
      </h1>
      <DownloadMyData />
      <DeleteAccount />
    </section>
  );
}
